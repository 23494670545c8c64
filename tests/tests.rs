//! End-to-end tests of the `keysweep` binary, as one test binary (ripgrep's
//! layout): each module covers one subcommand, `util` holds `kstest!`.

#[macro_use]
mod util;

mod badinput;
mod git;
mod gitleaks;
mod hook;
mod rotate;
mod rules;
mod scan;
mod sentinel;
