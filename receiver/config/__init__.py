"""The configuration file: loading, `${VAR}` interpolation, validation with key paths."""
