"""pybuildkit.plan"""
