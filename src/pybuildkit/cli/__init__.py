"""pybuildkit.cli"""
