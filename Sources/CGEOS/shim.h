// Only the reentrant (_r) API: every call names its context, so threads never share state.
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
