"""pybuildkit.cache"""
