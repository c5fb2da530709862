"""pybuildkit.model"""
