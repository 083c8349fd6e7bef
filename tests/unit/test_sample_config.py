"""The committed etc/zaqar.conf.sample must be what oslo-config-generator makes today."""
from pathlib import Path

from oslo_config import cfg, generator

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_CONFIG = ROOT / "etc" / "oslo-config-generator" / "zaqar.conf"
SAMPLE = ROOT / "etc" / "zaqar.conf.sample"


def test_sample_config_is_up_to_date(tmp_path):
    regenerated = tmp_path / "zaqar.conf.sample"
    conf = cfg.ConfigOpts()
    generator.register_cli_opts(conf)
    conf(["--config-file", str(GENERATOR_CONFIG), "--output-file", str(regenerated)])
    generator.generate(conf)
    assert regenerated.read_text() == SAMPLE.read_text(), (
        "etc/zaqar.conf.sample is out of date with the options in zaqar/conf/; "
        "regenerate it with `tox -e genconfig` and commit the result.")
