"""The committed etc/zaqar.policy.yaml.sample must be what oslopolicy-sample-generator
makes from today's in-code rules."""
from pathlib import Path

from oslo_config import cfg
from oslo_policy import generator

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_CONFIG = ROOT / "etc" / "oslo-policy-generator" / "zaqar-policy-generator.conf"
SAMPLE = ROOT / "etc" / "zaqar.policy.yaml.sample"


def test_sample_policy_is_up_to_date(tmp_path):
    regenerated = tmp_path / "zaqar.policy.yaml.sample"
    generator.generate_sample(["--config-file", str(GENERATOR_CONFIG),
                               "--output-file", str(regenerated)], conf=cfg.ConfigOpts())
    assert regenerated.read_text() == SAMPLE.read_text(), (
        "etc/zaqar.policy.yaml.sample is out of date with zaqar/auth/policy.py; "
        "regenerate it with `tox -e genpolicy` and commit the result.")
