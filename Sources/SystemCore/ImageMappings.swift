import CSystem

/// The mappings of this process's own executable.
public enum ImageMappings {
  /// Makes fork(2) copy the page table entries of our executable's read-only
  /// mappings (text, read-only data) to every later child: mprotect(2) to
  /// writable, a one-byte write, mprotect back (cs_share_image_page_tables).
  /// Returns the number of mappings done (best effort: 0 when a policy
  /// refuses the mprotect, and forks are as before).
  @discardableResult
  public static func shareWithForkChildren() -> Int {
    Int(max(0, cs_share_image_page_tables()))
  }
}
