"""CLI command groups of `postdeploy`, one module per capability, registered in postdeploy.cli."""
