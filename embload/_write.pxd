# Contract of the writer kernels: rows of a matrix -> bytes of a vectors file.
#
# One call formats a block of rows into one buffer; the caller formats blocks
# on several threads and writes the buffers in row order, so the file is
# identical whatever the thread count.

cdef struct RowBlock:
    # the rows [start, stop) of a C-contiguous (rows, dim) matrix
    const char *data          # first byte of row 0 of the matrix
    Py_ssize_t dim
    int kind                  # 16, 32 or 64: float16, float32, float64 values
    int binary                # 0: "word v1 v2 ...\n"; 1: "word " + float32 LE bytes + "\n"
    const char **words        # UTF-8 bytes of each word of the block (indexed from 0 = row start)
    const Py_ssize_t *word_len

cdef Py_ssize_t format_rows(const RowBlock *blk, Py_ssize_t first, Py_ssize_t stop,
                            Py_ssize_t row0, char *out) noexcept nogil
