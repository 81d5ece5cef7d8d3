#include <proj.h>
// Karney's geodesic routines (the C port of GeographicLib), shipped inside libproj.
#include <geodesic.h>
