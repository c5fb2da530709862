"""pybuildkit.sandbox"""
