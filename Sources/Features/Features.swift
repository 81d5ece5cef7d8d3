// OGC API – Features: collections, items, filters, CRS.
