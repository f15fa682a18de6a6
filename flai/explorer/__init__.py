"""FLAI Explorer: a read-only web front end to the registry, SubDAOs, rounds and revenue."""
