"""pybuildkit.exporters"""
