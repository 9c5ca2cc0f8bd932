//! Shared pieces of the fuzz targets: structure-aware descriptions of admission requests and
//! settings documents (rendered to JSON), and the invariants every answer must satisfy.

pub mod invariants;
pub mod json_shape;
pub mod request_model;
pub mod settings_model;
