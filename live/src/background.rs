//! Work that runs beside a build (hashing its context) yields the CPU to it: the thread that
//! does it lowers its own scheduling priority, so it takes the time the build leaves idle.

/// The nice value of a background thread: the lowest priority, as `nice -n 19` gives.
#[cfg(target_os = "linux")]
const BACKGROUND_NICE: i32 = 19;

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`] (Linux gives each thread its
/// own nice value). Elsewhere, and when the system refuses, the priority stays as it was:
/// the work still gets done, only less politely.
pub fn yield_to_the_build() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid(2) and setpriority(2) take and return plain integers; the thread id is the
    // calling thread's own, so no other thread's priority can change.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, BACKGROUND_NICE);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The nice value of the calling thread.
    fn own_nice() -> i32 {
        // SAFETY: as in `yield_to_the_build`; getpriority(2) only reads.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[test]
    fn the_thread_that_yields_runs_at_the_lowest_priority_and_the_others_do_not() {
        let before = own_nice();
        assert!(
            before < BACKGROUND_NICE,
            "the test runs above the lowest priority"
        );
        let inside = std::thread::spawn(|| {
            yield_to_the_build();
            own_nice()
        })
        .join()
        .unwrap();
        assert_eq!(inside, BACKGROUND_NICE);
        assert_eq!(own_nice(), before, "only the calling thread is lowered");
    }
}
