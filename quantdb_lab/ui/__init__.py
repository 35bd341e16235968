"""quantdb_lab.ui: the notebook surface (``%qdb`` magics, widgets). Uses only the public API of quantdb_lab;
nothing here is imported by ``import quantdb_lab``."""
