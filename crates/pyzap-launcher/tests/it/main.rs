//! Integration tests of `pyzap-launcher`: every error of the stub, as the
//! one line a user of a standalone executable sees.

mod messages;
mod protocol;
