"""pybuildkit.store"""
