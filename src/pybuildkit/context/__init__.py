"""pybuildkit.context"""
