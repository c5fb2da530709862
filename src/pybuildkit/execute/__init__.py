"""pybuildkit.execute"""
