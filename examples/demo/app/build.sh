#!/bin/sh
# "Compile" the app: a greeting stamped with the number of source files.
echo "$1 from pybuildkit: built $(ls /src | wc -l) source files"
