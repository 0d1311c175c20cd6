"""The shipped hardware folders (rtl, hls_templates, sim, boards), mapped here by pyproject.toml."""
