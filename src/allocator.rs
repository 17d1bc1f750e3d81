//! Which allocator converge's processes use, and how: every binary and test
//! that links the library allocates with mimalloc, set up by `configure`
//! first thing in `main` of every binary that plans (`converge` and the
//! benchmark, which must measure the memory a plan takes as `converge`
//! does).
//!
//! A plan reads rows on the runtime's threads, frees them, and builds the
//! catalog and its dependencies on others. glibc's allocator gave each
//! thread an arena of its own, where memory freed by one thread is reused
//! only by the threads allocating there: the freed rows were held beside
//! the new objects. One glibc arena for all threads fixed the memory (at
//! 5,000 tables a warm plan's peak RSS ~237 → ~205 MB) at the price of one
//! lock that every allocation takes: two threads parsing the desired files
//! took 4.4–4.8 s instead of 1.9–2.2 s, so the files were parsed on one.
//! mimalloc keeps a heap per thread without a shared lock, and a block
//! freed by another thread goes back to the page it came from, to be
//! reused. With its defaults it holds freed memory for a while and commits
//! its arenas eagerly (warm plan at 5,000 tables: peak RSS ~270 MB); with
//! freed pages returned at once and arenas committed as used (below), the
//! same plan peaks at ~175 MB and takes less CPU than with glibc.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc 3's `mi_option_e` (checked by
/// a test against the option's documented default).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// `mi_option_purge_delay`: how long freed memory is kept before it is
/// returned to the system, in milliseconds.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the system at once, commits arena memory only as
/// it is used, and keeps the process off transparent huge pages. Call it
/// first thing in `main`, before any thread starts.
///
/// mimalloc reserves its first arena before `main`, committed and advised
/// for huge pages: the arena option comes too late for it, and its memory
/// would be faulted in 2 MiB at a time (peak RSS ~200 MB instead of ~175 MB
/// for the warm plan above). Huge pages are turned off for the process
/// instead, which mimalloc itself does when told before it starts
/// (`MIMALLOC_ALLOW_THP=0`); pages faulted from then on are 4 KiB ones.
pub fn configure() {
    // SAFETY: `mi_option_set` only sets a parameter of the allocator, by an
    // option number of the linked mimalloc's (see the constants' test).
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; a kernel
    // without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option numbers are those of the mimalloc linked in: read before
    /// `configure` (which only `main` calls), each has the default its
    /// `options.c` gives it (`arena_eager_commit` 2: on overcommitting
    /// systems; `purge_delay` 1,000 ms), which its neighbours do not.
    #[test]
    fn option_numbers_name_the_options_set() {
        // SAFETY: reading an option.
        let get = |option| unsafe { libmimalloc_sys::mi_option_get(option) };
        assert_eq!(get(ARENA_EAGER_COMMIT), 2);
        assert_eq!(get(PURGE_DELAY), 1000);
        // The deprecated eager_commit (1), then purge_decommits (1); the
        // deprecated eager_commit_delay (1), then use_numa_nodes (0).
        assert_eq!((get(ARENA_EAGER_COMMIT - 1), get(ARENA_EAGER_COMMIT + 1)), (1, 1));
        assert_eq!((get(PURGE_DELAY - 1), get(PURGE_DELAY + 1)), (1, 0));
    }
}
