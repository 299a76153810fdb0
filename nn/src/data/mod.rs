//! Data: IDX files (the MNIST format), in-memory data sets and batch iteration.
