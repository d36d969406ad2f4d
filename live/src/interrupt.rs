//! Ctrl-C and SIGTERM for the live commands: note the request, pass it to the running child,
//! and let the caller stop cleanly (store what was recorded) instead of dying mid-write.
//!
//! A terminal's Ctrl-C already reaches every process of the foreground group, the wrapped
//! command included, so SIGINT is forwarded only when buildprof is not in the terminal's
//! foreground group (a `kill -INT` from a CI runner, say). SIGTERM and SIGHUP are always
//! forwarded. Handlers are reset by `exec`, so children start with default dispositions.
//!
//! Signals are POSIX: on other systems [`install`] does nothing and no interrupt is ever
//! requested, so Ctrl-C ends the process as it would without buildprof's handlers.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;

use tokio::sync::watch;

struct State {
    requested: AtomicBool,
    child: AtomicI32,
    notify: watch::Sender<bool>,
}

static STATE: OnceLock<State> = OnceLock::new();

/// Installs the handlers (once per process). Until then signals keep their default effect.
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;
    if STATE.get().is_some() {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let (notify, _) = watch::channel(false);
    let _ = STATE.set(State {
        requested: AtomicBool::new(false),
        child: AtomicI32::new(0),
        notify,
    });
    std::thread::Builder::new()
        .name("buildprof-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let Some(st) = STATE.get() else { continue };
                st.requested.store(true, Ordering::SeqCst);
                st.notify.send_replace(true);
                let child = st.child.load(Ordering::SeqCst);
                if child > 0 && (sig != SIGINT || !in_terminal_foreground()) {
                    // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
                    unsafe {
                        libc::kill(child, sig);
                    }
                }
            }
        })?;
    Ok(())
}

/// Installs nothing: signals are POSIX.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}

/// Whether Ctrl-C (or SIGTERM) was received since [`install`].
pub fn requested() -> bool {
    STATE
        .get()
        .is_some_and(|s| s.requested.load(Ordering::SeqCst))
}

/// Waits until an interrupt is requested (never returns if [`install`] was not called).
pub async fn wait() {
    match STATE.get() {
        Some(st) => {
            let mut rx = st.notify.subscribe();
            let _ = rx.wait_for(|v| *v).await;
        }
        None => std::future::pending().await,
    }
}

/// Names the child to forward signals to while it runs (0 for none).
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn set_child(pid: i32) {
    if let Some(st) = STATE.get() {
        st.child.store(pid, Ordering::SeqCst);
    }
}

#[cfg(unix)]
fn in_terminal_foreground() -> bool {
    [0, 1, 2].into_iter().any(|fd| {
        // SAFETY: plain syscalls on the standard descriptors.
        unsafe { libc::isatty(fd) == 1 && libc::tcgetpgrp(fd) == libc::getpgrp() }
    })
}
