//! Running real Python interpreters at build time: finding one by name or
//! path, asking it what it is (the facts a `Target` is made from), and
//! compiling sources to hash-based bytecode with it.

mod compile;
mod error;
mod interpreter;

pub use compile::compile_sources;
pub use error::PythonError;
pub use interpreter::Interpreter;
