"""pybuildkit.registry"""
