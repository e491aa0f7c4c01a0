// Unwind images: the ELF files behind the target's code, mapped read-only
// ONCE per run and shared by every capture session, with where their
// .eh_frame_hdr binary-search table is. See Internal.h.
//
// Why: libunwind's _UPT_find_proc_info re-reads /proc/PID/maps and re-maps
// the ELF file for every module of every process, and its table lookups then
// read the target's memory a word at a time. In a 6-process Python tree that
// was 3 extra maps reads per process (show_map + mangle_path in the kernel:
// ~20% of a whole `snapshot --tree`). Here a file is opened and its headers
// parsed once, and the unwinder reads .eh_frame/.eh_frame_hdr/code bytes
// from our own read-only mapping of the file (no syscall per read).
#include "Internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

// DWARF pointer encodings used by .eh_frame_hdr.
enum {
  PE_absptr = 0x00, PE_udata4 = 0x03, PE_sdata4 = 0x0b, PE_udata8 = 0x04, PE_sdata8 = 0x0c,
  PE_pcrel = 0x10, PE_datarel = 0x30, PE_omit = 0xff,
};

/// Reads one encoded value of the .eh_frame_hdr header (the few encodings
/// linkers emit there). Returns bytes consumed, 0 when unsupported.
static size_t read_encoded(const uint8_t *p, size_t avail, uint8_t enc, uint64_t *out) {
  size_t n;
  switch (enc & 0x0f) {
  case PE_udata4: case PE_sdata4: n = 4; break;
  case PE_absptr: case PE_udata8: case PE_sdata8: n = 8; break;
  default: return 0;
  }
  if (n > avail) return 0;
  if (n == 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    *out = (enc & 0x0f) == PE_sdata4 ? (uint64_t)(int64_t)(int32_t)v : v;
  } else {
    memcpy(out, p, 8);
  }
  return n;
}

/// Fills the table fields from the PT_GNU_EH_FRAME segment (u->has_table
/// stays 0 when the header is missing or its table uses an encoding that
/// libunwind's binary search does not take: then the session falls back to
/// _UPT_find_proc_info, which also tries .debug_frame).
static void parse_eh_frame_hdr(cu_uimage *u, const Elf64_Phdr *eh) {
  if (eh->p_offset >= u->len || eh->p_filesz < 4 || eh->p_filesz > u->len - eh->p_offset) return;
  const uint8_t *h = u->map + eh->p_offset;
  size_t avail = (size_t)eh->p_filesz;
  uint8_t version = h[0], frame_enc = h[1], count_enc = h[2], table_enc = h[3];
  if (version != 1 || table_enc != (PE_datarel | PE_sdata4) || count_enc == PE_omit) return;
  size_t at = 4;
  uint64_t ignored, count;
  if (frame_enc != PE_omit) {
    size_t n = read_encoded(h + at, avail - at, frame_enc, &ignored);
    if (!n) return;
    at += n;
  }
  size_t n = read_encoded(h + at, avail - at, count_enc, &count);
  if (!n) return;
  at += n;
  // Each entry is two sdata4 (initial location, FDE address), relative to
  // the header; the table must lie inside the segment.
  if (count == 0 || count > (avail - at) / 8) return;
  u->hdr_vaddr = eh->p_vaddr;
  u->table_vaddr = eh->p_vaddr + at;
  u->fde_count = count;
  u->has_table = 1;
}

/// Parses the program headers of a freshly mapped file into `u`.
static int parse_image(cu_uimage *u) {
  if (u->len < sizeof(Elf64_Ehdr)) return 0;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)u->map;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff >= u->len ||
      (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > u->len - eh->e_phoff)
    return 0;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(u->map + eh->e_phoff);
  const Elf64_Phdr *ehp = NULL, *dyn = NULL;
  for (int i = 0; i < eh->e_phnum; i++) {
    switch (ph[i].p_type) {
    case PT_LOAD:
      if (u->nload < CU_UIMAGE_MAXLOAD) {
        u->load[u->nload].off = ph[i].p_offset;
        u->load[u->nload].filesz = ph[i].p_filesz;
        u->load[u->nload].vaddr = ph[i].p_vaddr;
        u->load[u->nload].writable = (ph[i].p_flags & PF_W) != 0;
        u->nload++;
      }
      break;
    case PT_GNU_EH_FRAME: ehp = &ph[i]; break;
    case PT_GNU_RELRO:
      u->relro_start = ph[i].p_vaddr;
      u->relro_end = ph[i].p_vaddr + ph[i].p_memsz;
      break;
    case PT_DYNAMIC: dyn = &ph[i]; break;
    default: break;
    }
  }
  if (ehp) parse_eh_frame_hdr(u, ehp);
  // The "gp" libunwind's own table finder sets: DT_PLTGOT as in the file
  // (only DW_EH_PE_datarel pointers use it, which x86_64 code does not emit).
  if (dyn && dyn->p_offset < u->len && dyn->p_filesz <= u->len - dyn->p_offset) {
    const Elf64_Dyn *d = (const Elf64_Dyn *)(u->map + dyn->p_offset);
    for (size_t i = 0; i < dyn->p_filesz / sizeof *d && d[i].d_tag != DT_NULL; i++)
      if (d[i].d_tag == DT_PLTGOT) u->gp = d[i].d_un.d_ptr;
  }
  return u->nload > 0;
}

// The cache: a fixed table, filled once per file and never evicted (a run
// touches a few dozen files; beyond the cap a file is simply not cached and
// the session falls back to _UPT for it). Entries are immutable once
// published, so lookups hold the lock only to search.
enum { CU_UIMAGE_CAP = 128 };
static cu_uimage *images[CU_UIMAGE_CAP];
static int nimages;
static pthread_mutex_t images_lock = PTHREAD_MUTEX_INITIALIZER;

static cu_uimage *find_cached(uint64_t dev, uint64_t ino) {
  for (int i = 0; i < nimages; i++)
    if (images[i]->dev == dev && images[i]->ino == ino) return images[i];
  return NULL;
}

/// open + fstat + mmap of `path` when it is the file (dev, ino) the maps line
/// names (a file replaced on disk since the target mapped it is not used).
static cu_uimage *open_image(const char *path, uint64_t dev, uint64_t ino) {
  int fd = cu_sys_open(path, O_RDONLY);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != ino ||
      ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != dev || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    cu_sys_close(fd);
    return NULL;
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  cu_sys_close(fd);
  if (m == MAP_FAILED) return NULL;
  cu_uimage *u = calloc(1, sizeof *u);
  if (!u) {
    munmap(m, (size_t)st.st_size);
    return NULL;
  }
  u->dev = dev;
  u->ino = ino;
  u->map = m;
  u->len = (size_t)st.st_size;
  if (!parse_image(u)) {
    munmap(m, u->len);
    free(u);
    return NULL;
  }
  return u;
}

const cu_uimage *cu_uimage_get(pid_t pid, uint64_t dev, uint64_t ino, const char *path) {
  pthread_mutex_lock(&images_lock);
  cu_uimage *hit = find_cached(dev, ino);
  pthread_mutex_unlock(&images_lock);
  if (hit) return hit->map ? hit : NULL;
  // Open outside the lock: the target's own path, else through its root
  // (another mount namespace).
  cu_uimage *u = path[0] == '/' ? open_image(path, dev, ino) : NULL;
  if (!u && path[0] == '/') {
    char alt[4200];
    if ((size_t)snprintf(alt, sizeof alt, "/proc/%d/root%s", (int)pid, path) < sizeof alt)
      u = open_image(alt, dev, ino);
  }
  pthread_mutex_lock(&images_lock);
  cu_uimage *raced = find_cached(dev, ino);
  if (raced) {
    pthread_mutex_unlock(&images_lock);
    if (u) {
      munmap(u->map, u->len);
      free(u);
    }
    return raced->map ? raced : NULL;
  }
  if (!u) u = calloc(1, sizeof *u);  // a negative entry: map == NULL
  if (u && nimages < CU_UIMAGE_CAP) {
    u->dev = dev;
    u->ino = ino;
    images[nimages++] = u;
  } else if (u && u->map) {
    // Not cacheable: cannot be shared, so it cannot be handed out either.
    munmap(u->map, u->len);
    free(u);
    u = NULL;
  } else {
    free(u);
    u = NULL;
  }
  pthread_mutex_unlock(&images_lock);
  return u && u->map ? u : NULL;
}

int cu_uimage_bias(const cu_uimage *u, uint64_t map_start, uint64_t map_off, uint64_t *bias) {
  // 1. The segment whose first page the mapping starts at: the loader maps
  //    each segment from its own page-aligned offset. This comes first
  //    because lld packs segments into shared file pages: the page where the
  //    text segment starts also holds the end of the read-only segment
  //    before it, and taking that one (as the fallback below would) put
  //    every address of a static lld executable 4 KiB off (tractor-actor's
  //    and tractor-diag's stacks stopped after a frame or two).
  // 2. Else the segment whose file range holds the offset (a mapping split
  //    by mprotect, RELRO, starts inside its segment).
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < u->nload; i++) {
      uint64_t page_off = u->load[i].off & ~(uint64_t)4095;
      int match = pass == 0 ? map_off == page_off
                            : map_off >= page_off && map_off < u->load[i].off + u->load[i].filesz;
      if (match) {
        // The byte at map_start has file offset map_off, whose link-time
        // address is vaddr + (map_off - off).
        *bias = map_start - (u->load[i].vaddr + map_off - u->load[i].off);
        return 1;
      }
    }
  }
  return 0;
}

const uint8_t *cu_uimage_bytes(const cu_uimage *u, uint64_t vaddr, size_t len) {
  if (vaddr + len < vaddr) return NULL;
  // RELRO pages are mapped read-only too, but the loader wrote them first.
  if (vaddr < u->relro_end && vaddr + len > u->relro_start) return NULL;
  for (int i = 0; i < u->nload; i++) {
    if (u->load[i].writable) continue;
    uint64_t v0 = u->load[i].vaddr, v1 = v0 + u->load[i].filesz;
    if (vaddr >= v0 && vaddr + len <= v1) {
      uint64_t off = u->load[i].off + (vaddr - v0);
      if (off + len > u->len) return NULL;
      return u->map + off;
    }
  }
  return NULL;
}
