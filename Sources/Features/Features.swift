// OGC API – Features (issue 7): collections, items, filters, CRS.
