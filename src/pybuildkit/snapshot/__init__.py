"""pybuildkit.snapshot"""
