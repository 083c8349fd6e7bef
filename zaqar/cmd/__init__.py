"""Console entry points. Thin: parse configuration, build, run."""
