"""Bytes to AST: parser directives, line joining, heredocs, the Lark grammar, shell-word expansion.

No I/O happens here: callers hand in the text.
"""
