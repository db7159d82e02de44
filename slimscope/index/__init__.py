"""One streaming pass per layer, and the cache of its result.

records   entry kinds, clean_path/parent_of, the columnar LayerIndex
walk      the tar walk: index_tar, index_blob
streams   hashing/counting/range readers, IterStream, sniffing and decompression
digests   sha256 digests and the one check of a blob against its digest
cache     IndexCache on disk, cache_dir
parallel  per-layer work in worker processes
"""
