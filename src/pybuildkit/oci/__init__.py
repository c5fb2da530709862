"""pybuildkit.oci"""
