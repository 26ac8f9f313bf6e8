//! Materialising an image's merged root filesystem into a private directory.
