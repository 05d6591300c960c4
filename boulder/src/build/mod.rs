//! `boulder build`: from a recipe to stones and manifests.
//!
//! * [`script`]: the phase scripts as bash and the rc file of `boulder chroot`:
//!   `RecipeScripts::new(library, &recipe, &text, HOST_ARCH, ScriptOptions::default())?`
//!   then `.phases()` or `.chroot_rc()`.

pub mod script;
