"""posetool: detect -> track -> estimate human poses in videos."""

__version__ = "0.1.0"
