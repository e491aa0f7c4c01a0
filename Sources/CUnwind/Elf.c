// ELF symbol tables, read by us from a read-only mapping after the target
// is detached. See include/CUnwind.h.
#include "Internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  uint64_t addr, size;
  const char *name;
  int score;  // lower is a better name among aliases at one address
} cu_sym;

struct cu_elf {
  uint8_t *map;
  size_t len;
  int nload;
  struct { uint64_t off, filesz, vaddr; } load[32];
  cu_sym *syms;
  size_t nsyms;
};

static int name_score(const char *n, int bind) {
  int s = 0;
  while (n[s] == '_') s++;
  int score = s * 1000;
  score += bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 100 : 200;
  score += (int)(strlen(n) > 99 ? 99 : strlen(n));
  return score;
}

// Sorts by address with an LSD radix sort over only the address bytes that
// differ somewhere in the table (a library spans a few MiB: 3-4 of 8 bytes),
// then puts the best-scored alias first among equal addresses. glibc's qsort
// (a merge sort through a comparison callback) was ~3% of a `snapshot --tree`
// of six Python processes (perf), sorting python3.11's and libc's symbols.
static int sort_syms(cu_sym *syms, size_t n) {
  cu_sym *tmp = malloc(n * sizeof *tmp);
  if (!tmp) return 0;
  uint64_t all_or = 0, all_and = ~(uint64_t)0;
  for (size_t i = 0; i < n; i++) {
    all_or |= syms[i].addr;
    all_and &= syms[i].addr;
  }
  uint64_t varying = all_or ^ all_and;
  cu_sym *src = syms, *dst = tmp;
  for (int shift = 0; shift < 64; shift += 8) {
    if (((varying >> shift) & 0xff) == 0) continue;
    size_t start[257] = {0};
    for (size_t i = 0; i < n; i++) start[((src[i].addr >> shift) & 0xff) + 1]++;
    for (int b = 0; b < 256; b++) start[b + 1] += start[b];
    for (size_t i = 0; i < n; i++) dst[start[(src[i].addr >> shift) & 0xff]++] = src[i];
    cu_sym *t = src;
    src = dst;
    dst = t;
  }
  if (src != syms) memcpy(syms, src, n * sizeof *syms);
  free(tmp);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && syms[j].addr == syms[i].addr) j++;
    for (size_t k = i + 1; k < j; k++)
      if (syms[k].score < syms[i].score) {
        cu_sym t = syms[i];
        syms[i] = syms[k];
        syms[k] = t;
      }
    i = j;
  }
  return 1;
}

static void add_symbols(cu_elf *e, const Elf64_Shdr *sh, const Elf64_Shdr *shdrs, int shnum, size_t *cap) {
  if (sh->sh_link >= (Elf64_Word)shnum) return;
  const Elf64_Shdr *strsh = &shdrs[sh->sh_link];
  if (sh->sh_offset > e->len || sh->sh_size > e->len - sh->sh_offset) return;
  if (strsh->sh_offset > e->len || strsh->sh_size > e->len - strsh->sh_offset) return;
  if (sh->sh_entsize != sizeof(Elf64_Sym)) return;
  const Elf64_Sym *syms = (const Elf64_Sym *)(e->map + sh->sh_offset);
  size_t count = sh->sh_size / sizeof(Elf64_Sym);
  const char *strs = (const char *)(e->map + strsh->sh_offset);
  size_t strsz = strsh->sh_size;
  for (size_t i = 0; i < count; i++) {
    const Elf64_Sym *s = &syms[i];
    int type = ELF64_ST_TYPE(s->st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0) continue;
    if (s->st_name == 0 || s->st_name >= strsz) continue;
    const char *nm = strs + s->st_name;
    // The name must be NUL-terminated inside the string table.
    if (!memchr(nm, 0, strsz - s->st_name)) continue;
    if (e->nsyms == *cap) {
      size_t nc = *cap ? *cap * 2 : 1024;
      cu_sym *ns = realloc(e->syms, nc * sizeof *ns);
      if (!ns) return;
      e->syms = ns;
      *cap = nc;
    }
    e->syms[e->nsyms++] = (cu_sym){s->st_value, s->st_size, nm, name_score(nm, ELF64_ST_BIND(s->st_info))};
  }
}

cu_elf *cu_elf_open(const char *path, int *err) {
  int fd = cu_sys_open(path, O_RDONLY);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    *err = errno ? errno : ENOEXEC;
    cu_sys_close(fd);
    return NULL;
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  cu_sys_close(fd);
  if (m == MAP_FAILED) {
    *err = errno;
    return NULL;
  }
  cu_elf *e = calloc(1, sizeof *e);
  if (!e) {
    munmap(m, (size_t)st.st_size);
    *err = ENOMEM;
    return NULL;
  }
  e->map = m;
  e->len = (size_t)st.st_size;
  const Elf64_Ehdr *eh = m;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
    cu_elf_close(e);
    *err = ENOEXEC;
    return NULL;
  }
  if (eh->e_phoff && eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_phoff < e->len &&
      (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= e->len - eh->e_phoff) {
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(e->map + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum && e->nload < 32; i++) {
      if (ph[i].p_type != PT_LOAD) continue;
      e->load[e->nload].off = ph[i].p_offset;
      e->load[e->nload].filesz = ph[i].p_filesz;
      e->load[e->nload].vaddr = ph[i].p_vaddr;
      e->nload++;
    }
  }
  if (eh->e_shoff && eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shoff < e->len &&
      (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= e->len - eh->e_shoff) {
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(e->map + eh->e_shoff);
    size_t cap = 0;
    for (int i = 0; i < eh->e_shnum; i++)
      if (sh[i].sh_type == SHT_SYMTAB || sh[i].sh_type == SHT_DYNSYM) add_symbols(e, &sh[i], sh, eh->e_shnum, &cap);
  }
  if (e->nsyms > 1) {
    if (!sort_syms(e->syms, e->nsyms)) {
      e->nsyms = 0;
      *err = 0;
      return e;
    }
    // Keep the best-named alias per address (sorted first by score); keep the
    // largest size seen so a sized alias wins over a size-0 one.
    size_t w = 0;
    for (size_t i = 0; i < e->nsyms; i++) {
      if (w > 0 && e->syms[w - 1].addr == e->syms[i].addr) {
        if (e->syms[i].size > e->syms[w - 1].size) e->syms[w - 1].size = e->syms[i].size;
        continue;
      }
      e->syms[w++] = e->syms[i];
    }
    e->nsyms = w;
  }
  *err = 0;
  return e;
}

void cu_elf_close(cu_elf *e) {
  if (!e) return;
  if (e->map) munmap(e->map, e->len);
  free(e->syms);
  free(e);
}

int cu_elf_fileoff_to_vaddr(const cu_elf *e, uint64_t fo, uint64_t *vaddr) {
  for (int i = 0; i < e->nload; i++) {
    if (fo >= e->load[i].off && fo < e->load[i].off + e->load[i].filesz) {
      *vaddr = fo - e->load[i].off + e->load[i].vaddr;
      return 1;
    }
  }
  return 0;
}

const char *cu_elf_lookup(const cu_elf *e, uint64_t vaddr, uint64_t *symaddr) {
  if (!e || e->nsyms == 0) return NULL;
  size_t lo = 0, hi = e->nsyms;  // first index with addr > vaddr
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->syms[mid].addr <= vaddr) lo = mid + 1;
    else hi = mid;
  }
  // Check a few preceding symbols so a small symbol nested inside a larger
  // one does not hide it. A sized symbol that ends before vaddr is rejected:
  // with stripped libraries (only .dynsym) the nearest exported symbol below
  // a static function is the wrong name, and no name beats a wrong one.
  for (size_t k = 0; k < 4 && lo > 0; k++, lo--) {
    const cu_sym *s = &e->syms[lo - 1];
    if (s->size == 0 && k == 0) {
      *symaddr = s->addr;
      return s->name;
    }
    if (s->size > 0 && vaddr < s->addr + s->size) {
      *symaddr = s->addr;
      return s->name;
    }
  }
  return NULL;
}
