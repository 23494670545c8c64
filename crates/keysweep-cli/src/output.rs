//! Report destinations and colour: `keysweep-report`'s writers, plus what
//! only the program decides (the interrupt handler, `--color`/`NO_COLOR`).

use keysweep_report::{Destination, Format, Reporter};
use std::path::Path;
use std::sync::Once;

use crate::args::ColorWhen;

/// Opens a report destination ([`Destination::open`]), first installing the
/// interrupt handler (SIGINT, SIGTERM, SIGHUP) that deletes unfinished
/// report files and exits with 130.
pub fn open(path: Option<&Path>) -> anyhow::Result<Destination> {
    if path.is_some() {
        static HANDLER: Once = Once::new();
        HANDLER.call_once(|| {
            // The handler runs on its own thread, so it may take the lock that
            // `remove_unfinished` waits on; a report being renamed into place
            // holds it, so it is either complete or absent.
            let res = ctrlc::set_handler(|| {
                keysweep_report::remove_unfinished();
                eprintln!("error: interrupted");
                std::process::exit(130);
            });
            if let Err(e) = res {
                tracing::debug!(error = %e, "no interrupt handler; an interrupted scan may leave a temporary report file");
            }
        });
    }
    Ok(Destination::open(path)?)
}

/// Whether the human format is coloured: `--color`, else a terminal without
/// `NO_COLOR`.
pub fn use_color(when: ColorWhen, reporter: &Reporter) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => reporter.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

impl From<crate::args::Format> for Format {
    fn from(f: crate::args::Format) -> Format {
        match f {
            crate::args::Format::Human => Format::Human,
            crate::args::Format::Json => Format::Json,
            crate::args::Format::Jsonl => Format::Jsonl,
            crate::args::Format::Sarif => Format::Sarif,
        }
    }
}
