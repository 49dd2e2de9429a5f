//! Ctrl-C during a run. First SIGINT: mark every target interrupted (exec skips remaining steps,
//! trials not started are ignored), let running trials finish their cleanup steps, then the runner
//! cleans everything and exits 130. Second SIGINT: print what is still outstanding and exit 130 at
//! once.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::target::Target;

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Whether the run was interrupted.
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

fn on_signal(targets: &[Target]) {
    let n = INTERRUPTS.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        for t in targets {
            t.interrupted.store(true, Ordering::SeqCst);
        }
        eprintln!(
            "\njobconform: interrupted: finishing running steps and cleaning up (Ctrl-C again to abort at once)"
        );
        return;
    }
    eprintln!("\njobconform: aborted: cleanup did not finish");
    for t in targets {
        for c in t.ledger.outstanding() {
            eprintln!("  NOT CLEANED UP on {}: {c}", t.name);
        }
    }
    std::process::exit(130);
}

/// Installs the SIGINT handler on the runtime for these targets. The handler is registered
/// before this returns.
pub fn install(rt: &tokio::runtime::Runtime, targets: Vec<Target>) -> std::io::Result<()> {
    let _guard = rt.enter();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut sig = signal(SignalKind::interrupt())?;
        rt.spawn(async move {
            while sig.recv().await.is_some() {
                on_signal(&targets);
            }
        });
    }
    #[cfg(not(unix))]
    {
        rt.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                on_signal(&targets);
            }
        });
    }
    Ok(())
}
