// Demangling: Swift names via swift_demangle (libswiftCore), C++ via
// __cxa_demangle (libstdc++). In a static executable (CU_STATIC_EXECUTABLE:
// release tractor-diag) both are linked in and called directly: dlsym finds
// nothing there. Otherwise both are found with dlsym, so that nothing is
// linked for them.
#include "Internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*fn_swift_demangle)(const char *, size_t, char *, size_t *, uint32_t);
typedef char *(*fn_cxa_demangle)(const char *, char *, size_t *, int *);

#ifdef CU_STATIC_EXECUTABLE
char *swift_demangle(const char *, size_t, char *, size_t *, uint32_t);
char *__cxa_demangle(const char *, char *, size_t *, int *);
static fn_swift_demangle swift_demangler(void) { return swift_demangle; }
static fn_cxa_demangle cxx_demangler(void) { return __cxa_demangle; }
#else
static fn_swift_demangle swift_demangler(void) {
  static fn_swift_demangle sd;
  if (!sd) *(void **)&sd = dlsym(RTLD_DEFAULT, "swift_demangle");
  return sd;
}
static fn_cxa_demangle cxx_demangler(void) {
  static fn_cxa_demangle cd;
  if (!cd) *(void **)&cd = dlsym(RTLD_DEFAULT, "__cxa_demangle");
  return cd;
}
#endif

char *cu_demangle(const char *name) {
  if (!name) return NULL;
  if (name[0] == '$' || strncmp(name, "_T0", 3) == 0 || strncmp(name, "_$s", 3) == 0) {
    fn_swift_demangle sd = swift_demangler();
    if (!sd) return NULL;
    return sd(name, strlen(name), NULL, NULL, 0);
  }
  if (strncmp(name, "_Z", 2) == 0) {
    fn_cxa_demangle cd = cxx_demangler();
    if (!cd) return NULL;
    int status = 0;
    char *r = cd(name, NULL, NULL, &status);
    if (status != 0) {
      free(r);
      return NULL;
    }
    return r;
  }
  return NULL;
}
