//! Chain errors, named as subtensor names them (being written).
