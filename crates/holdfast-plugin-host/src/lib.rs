//! Finding, describing and running holdfast plugins.
