"""Backends written the way a Kinto 26.5.0 plugin writes them, for the conformance tests.

Each implements exactly the methods Kinto 26.5.0's abstract classes define, with
Kinto's signatures (no ``auth``, a ``ttl`` that ``set`` requires, no
``transaction``, ``savepoint``, ``delete_prefix``, ``import_objects``...), and
declares none of our capability flags. The cache is a plain implementation;
storage and permission hand each call to our memory backends, so what is
proven is the shape: the contract suites ask such a backend for nothing Kinto
does not define, and the core's defaults fill in the rest.
"""
