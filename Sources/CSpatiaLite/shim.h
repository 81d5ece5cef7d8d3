#include <sqlite3.h>
#include <spatialite.h>

/* SQLite counts every allocation under one global mutex unless told not to: sqlite3_config is
   variadic, which Swift cannot call, so it is wrapped here. Only before SQLite initialises. */
static inline int onemap_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
