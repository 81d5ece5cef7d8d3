// Vector tiles (issue 5): tile grids, MVT encoding, generalisation, cache.
