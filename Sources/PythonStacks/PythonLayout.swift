/// Offsets into CPython's structures for one minor version (x86_64, GIL builds).
/// 3.11 and 3.12 are hard-coded (gcc offsetof against pyenv 3.11.7/3.12.1 headers,
/// cross-checked with py-spy's bindings); 3.13+ come from the target's own
/// `_Py_DebugOffsets`, plus the few fields that table lacks (hard-coded, from 3.13.0).
struct PythonLayout: Sendable {
  var minor: Int
  // _PyRuntimeState
  var interpretersHead: UInt64
  // PyInterpreterState
  var interpNext: UInt64, interpThreadsHead: UInt64, interpModules: UInt64
  // PyThreadState
  var tsNext: UInt64
  /// 3.11/3.12: tstate->cframe, then `cframeCurrentFrame` inside it. 3.13+: nil.
  var tsCFrame: UInt64?
  var cframeCurrentFrame: UInt64
  var tsCurrentFrame: UInt64
  var tsThreadID: UInt64, tsNativeThreadID: UInt64
  // _PyInterpreterFrame
  var frameCode: UInt64, framePrevious: UInt64, frameInstr: UInt64, frameStackTop: UInt64
  var frameOwner: UInt64, frameLocalsPlus: UInt64
  /// f_globals: not in the debug offsets; 24 from 3.12 on (f_executable, previous, f_funcobj, f_globals).
  var frameGlobals: UInt64
  /// Frames whose owner is at least this are not Python code (3.12+), nil for 3.11.
  var ownerCStack: Int8?
  // PyCodeObject
  var coFilename: UInt64, coName: UInt64, coQualname: UInt64, coLinetable: UInt64, coFirstLineno: UInt64
  var coLocalsPlusNames: UInt64, coLocalsPlusKinds: UInt64, coCodeAdaptive: UInt64
  // str
  var asciiSize: UInt64, compactSize: UInt64
  // generators / coroutines
  var genFrameState: UInt64, genIFrame: UInt64
  /// 3.14: `stackpointer` (the value stack's top, _PyStackRef tagged); before 3.14 the
  /// top is localsplus[stacktop - 1].
  var frameStackPointer: UInt64? = nil
  /// Frame states: suspended ones (awaiting something) and "executing".
  var stateSuspended: Int8, stateSuspendedYieldFrom: Int8?, stateExecuting: Int8
  /// RESUME opcodes (3.11/3.12 decide "awaiting" from the instruction after prev_instr).
  var resumeOpcodes: Set<UInt8>
  // types
  var typeCachedKeys: UInt64
  var inlineValues: Bool
  /// 3.12: the managed dict slot is a tagged "dict or values" word.
  var taggedDictOrValues: Bool

  static let tpName: UInt64 = 24, tpBasicSize: UInt64 = 32, tpMembers: UInt64 = 240, tpFlags: UInt64 = 168

  static let v311 = PythonLayout(
    minor: 11, interpretersHead: 40, interpNext: 0, interpThreadsHead: 16, interpModules: 888,
    tsNext: 8, tsCFrame: 56, cframeCurrentFrame: 8, tsCurrentFrame: 0, tsThreadID: 152, tsNativeThreadID: 160,
    frameCode: 32, framePrevious: 48, frameInstr: 56, frameStackTop: 64, frameOwner: 69, frameLocalsPlus: 72, frameGlobals: 8,
    ownerCStack: nil,
    coFilename: 112, coName: 120, coQualname: 128, coLinetable: 136, coFirstLineno: 72,
    coLocalsPlusNames: 96, coLocalsPlusKinds: 104, coCodeAdaptive: 184,
    asciiSize: 48, compactSize: 72, genFrameState: 75, genIFrame: 80,
    stateSuspended: -1, stateSuspendedYieldFrom: nil, stateExecuting: 0, resumeOpcodes: [151, 150],
    typeCachedKeys: 872, inlineValues: false, taggedDictOrValues: false)

  static let v312 = PythonLayout(
    minor: 12, interpretersHead: 40, interpNext: 0, interpThreadsHead: 72, interpModules: 944,
    tsNext: 8, tsCFrame: 56, cframeCurrentFrame: 0, tsCurrentFrame: 0, tsThreadID: 136, tsNativeThreadID: 144,
    frameCode: 0, framePrevious: 8, frameInstr: 56, frameStackTop: 64, frameOwner: 70, frameLocalsPlus: 72, frameGlobals: 24,
    ownerCStack: 3,
    coFilename: 112, coName: 120, coQualname: 128, coLinetable: 136, coFirstLineno: 68,
    coLocalsPlusNames: 96, coLocalsPlusKinds: 104, coCodeAdaptive: 192,
    asciiSize: 40, compactSize: 56, genFrameState: 67, genIFrame: 72,
    stateSuspended: -1, stateSuspendedYieldFrom: nil, stateExecuting: 0, resumeOpcodes: [151, 240],
    typeCachedKeys: 880, inlineValues: false, taggedDictOrValues: true)

  /// Size of `_Py_DebugOffsets` we read (3.14's; 3.13's is 584).
  static let debugOffsetsBytes = 760

  /// 3.13+ from the debug offsets (u64 words). Nil for a table we cannot trust.
  static func fromDebugOffsets(_ w: [UInt64], minor: Int) -> PythonLayout? {
    guard minor == 13 || minor == 14, w.count >= 95 else { return nil }
    // Word indices of each section's first field after its `size` (see pycore_debug_offsets.h).
    let is14 = minor == 14
    let interp = 7, ts = is14 ? 23 : 20, frame = is14 ? 32 : 29, code = is14 ? 40 : 35
    var l = PythonLayout(
      minor: minor, interpretersHead: w[5],
      interpNext: w[interp + 1], interpThreadsHead: w[interp + 2],
      interpModules: w[interp + (is14 ? 5 : 4)],
      tsNext: w[ts + 1], tsCFrame: nil, cframeCurrentFrame: 0, tsCurrentFrame: w[ts + 3],
      tsThreadID: w[ts + 4], tsNativeThreadID: w[ts + 5],
      frameCode: w[frame + 1], framePrevious: w[frame], frameInstr: w[frame + 2], frameStackTop: 64,
      frameOwner: w[frame + 4], frameLocalsPlus: w[frame + 3], frameGlobals: 24,
      ownerCStack: 3,
      coFilename: w[code], coName: w[code + 1], coQualname: w[code + 2], coLinetable: w[code + 3],
      coFirstLineno: w[code + 4], coLocalsPlusNames: w[code + 6], coLocalsPlusKinds: w[code + 7],
      coCodeAdaptive: w[code + 8],
      asciiSize: 40, compactSize: 56, genFrameState: is14 ? w[86] : 67, genIFrame: is14 ? w[85] : 72,
      stateSuspended: -2, stateSuspendedYieldFrom: -1, stateExecuting: 0, resumeOpcodes: [],
      typeCachedKeys: 880, inlineValues: true, taggedDictOrValues: false)
    if is14 { l.frameStackPointer = w[frame + 5] }  // gen_object section @664 gives gi_iframe, gi_frame_state
    // Every offset must land inside its structure: a wrong table must not send us reading at random.
    let fields = [l.interpretersHead, l.interpThreadsHead, l.tsNext, l.tsCurrentFrame, l.frameCode, l.coFilename]
    guard fields.allSatisfy({ $0 < 1 << 20 }), l.framePrevious < 128, l.frameCode < 128, l.coCodeAdaptive < 512,
      l.genIFrame < 256, l.genFrameState < 256, (l.frameStackPointer ?? 0) < 256
    else { return nil }
    return l
  }
}
