import Foundation

/// The tests' child processes, launched one at a time, with their pipes closed under the same
/// lock.
///
/// Why: every test target runs in one process, its tests in parallel, and Foundation's
/// `Process.run()` on Linux fails now and then with EBADF ("Bad file descriptor") when another
/// thread closes a descriptor while it sets up the child's: a pipe's handle released as its
/// test ends, its number already reused (swiftlang/swift#57827). `make test` met it once, in
/// ServerResourceTests launching `onemap serve` while CLI tests ran `onemap`.
public enum ChildProcess {
    private static let lock = NSLock()

    /// Launches `process` (its standard streams set already).
    public static func launch(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }

    /// Closes a pipe's reading end once it has been read, rather than when it is released.
    public static func close(_ pipe: Pipe) {
        lock.lock()
        defer { lock.unlock() }
        try? pipe.fileHandleForReading.close()
    }

    /// Runs `executable` to its end: its status, standard output and standard error (the
    /// same text in both when `mergeError`).
    public static func run(_ executable: String, _ arguments: [String], mergeError: Bool = false) throws -> (
        status: Int32, stdout: Data, stderr: Data
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        let err = mergeError ? out : Pipe()
        p.standardOutput = out
        p.standardError = err
        try launch(p)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = mergeError ? stdout : err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        close(out)
        if !mergeError { close(err) }
        return (p.terminationStatus, stdout, stderr)
    }
}
