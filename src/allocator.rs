//! How converge's processes use the system allocator: one setting, made
//! before any thread starts, by every binary that plans (`converge` and the
//! benchmark, which must measure the memory a plan takes as `converge` does).

/// Makes glibc's allocator keep one heap for all threads. By default each
/// thread that allocates gets an arena of its own, and memory freed in one is
/// reused only by the threads allocating there: a plan reads rows on the
/// runtime's threads, frees them, then builds the catalog and its
/// dependencies on others, so the freed rows were held besides the new
/// objects (at 5,000 tables, peak memory 252 MiB with its own arenas, 236
/// MiB with one). The price is the one lock: threads that allocate at the
/// same time wait for each other. Two threads parsing the desired files did
/// (4.4–4.8 s at 5,000 tables, against 1.9–2.2 s with an arena per thread),
/// so they are parsed on one thread (`source::split`: 3.3–3.4 s); a plan
/// whose desired state is cached parses nothing. Call it first thing in
/// `main`.
pub fn one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; the callers call it
    // before their process starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
