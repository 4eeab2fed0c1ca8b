/* ckpt_merge.c - a delta checkpoint made whole as it comes in (contract
 * in ckpt_merge.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_merge.h"
#include "wire.h"

#define RUN_HDR (OM_HDR_SIZE + OM_IMAGE_PAGES_HDR)

int ckpt_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int ckpt_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_frame(int fd, uint8_t type, uint32_t seq, const uint8_t *p, uint32_t len)
{
	uint8_t hdr[OM_HDR_SIZE];
	om_hdr_encode(hdr, type, len, 0, seq);
	return ckpt_write_all(fd, hdr, sizeof hdr) == 0 && ckpt_write_all(fd, p, len) == 0 ? 0 : -1;
}

/* n bytes of the base at off: 0, or -1 (cut short, changed under us). */
static int base_read(const struct ckpt_merge *m, void *buf, size_t n, uint64_t off)
{
	return pread(m->base_fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

static int add_page(struct ckpt_merge *m, size_t *cap, uint64_t addr, uint64_t off)
{
	if (m->npages && addr <= m->pages[m->npages - 1].addr)
		return -1; /* its regions and pages ascend */
	if (m->npages == *cap) {
		struct ckpt_page *grown = realloc(m->pages, (*cap = *cap ? *cap * 2 : 4096) * sizeof *grown);
		if (!grown)
			return -1;
		m->pages = grown;
	}
	m->pages[m->npages++] = (struct ckpt_page){ addr, off };
	return 0;
}

/* The base file's pages, by address, as where they are in it (read with
 * pread as they are needed: a file cut meanwhile is an error, not a
 * SIGBUS). It must be a whole image: its END there. */
static int index_base(struct ckpt_merge *m, uint64_t len)
{
	size_t cap = 0;
	uint64_t start = 0;
	uint8_t buf[OM_HDR_SIZE + 512];
	for (uint64_t at = 0; at < len;) {
		struct om_hdr h;
		if (len - at < OM_HDR_SIZE || base_read(m, buf, OM_HDR_SIZE, at) != 0 ||
		    om_frame_check(buf, OM_HDR_SIZE, &h) != OM_OK || h.length > len - at - OM_HDR_SIZE)
			return -1;
		uint64_t p = at + OM_HDR_SIZE;
		at = p + h.length;
		if (h.type == OM_T_IMAGE_END)
			return at == len ? 0 : -1;
		if (h.type == OM_T_IMAGE_REGION) {
			struct om_image_region reg;
			if (h.length > sizeof buf || base_read(m, buf, h.length, p) != 0 ||
			    om_image_region_decode(buf, h.length, &reg) != OM_OK || (reg.flags & OM_RF_DELTA))
				return -1;
			start = reg.start;
		} else if (h.type == OM_T_IMAGE_PAGES) {
			struct wire_rd r;
			if (h.length < OM_IMAGE_PAGES_HDR || base_read(m, buf, OM_IMAGE_PAGES_HDR, p) != 0)
				return -1;
			wire_rd_init(&r, buf, OM_IMAGE_PAGES_HDR);
			(void)wire_rd_u32(&r); /* region: its order is the file's */
			uint64_t first = wire_rd_u64(&r);
			uint32_t count = wire_rd_u32(&r);
			if (count == 0 || count > OM_IMAGE_PAGES_MAX || first > OM_USER_TOP / OM_PAGE_SIZE ||
			    h.length != OM_IMAGE_PAGES_HDR + (uint64_t)count * OM_PAGE_SIZE)
				return -1;
			for (uint32_t k = 0; k < count; k++)
				if (add_page(m, &cap, start + (first + k) * OM_PAGE_SIZE,
					     p + OM_IMAGE_PAGES_HDR + (uint64_t)k * OM_PAGE_SIZE) != 0)
					return -1;
		}
	}
	return -1; /* no IMAGE_END */
}

int ckpt_merge_begin(struct ckpt_merge *m, const char *base_path, const struct ckpt_file_id *id, int fd, char *err,
		     size_t errlen)
{
	struct stat st;
	memset(m, 0, sizeof *m);
	m->fd = fd;
	m->base_fd = -1;
	if (!(m->run = malloc(RUN_HDR + (size_t)OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE)) || !(m->page = malloc(OM_PAGE_SIZE))) {
		ckpt_merge_end(m);
		return ckpt_fail(err, errlen, "out of memory");
	}
	if (!base_path)
		return 0;
	m->base_fd = open(base_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (m->base_fd < 0 || fstat(m->base_fd, &st) != 0) {
		ckpt_fail(err, errlen, "its base %s: %s", base_path, strerror(errno));
		ckpt_merge_end(m);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (id && !ckpt_file_id_is(id, &st))) {
		ckpt_merge_end(m);
		return ckpt_fail(err, errlen, "its base %s is not the file its last checkpoint wrote", base_path);
	}
	if (index_base(m, (uint64_t)st.st_size) != 0) {
		ckpt_merge_end(m);
		return ckpt_fail(err, errlen, "its base %s is not a whole image", base_path);
	}
	return 0;
}

int64_t ckpt_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

void ckpt_file_id_take(struct ckpt_file_id *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = ckpt_ns(&st->st_mtim);
}

int ckpt_file_id_is(const struct ckpt_file_id *id, const struct stat *st)
{
	struct ckpt_file_id now;
	ckpt_file_id_take(&now, st);
	return now.dev == id->dev && now.ino == id->ino && now.size == id->size && now.mtime_ns == id->mtime_ns;
}

void ckpt_merge_end(struct ckpt_merge *m)
{
	if (m->run && m->base_fd >= 0) /* (a struct never begun is all zero) */
		close(m->base_fd);
	free(m->pages);
	free(m->run);
	free(m->page);
	memset(m, 0, sizeof *m);
	m->base_fd = -1;
}

static int flush_run(struct ckpt_merge *m)
{
	if (!m->run_count)
		return 0;
	uint8_t *p = m->run + OM_HDR_SIZE;
	int n = om_image_pages_encode_header(m->index, m->run_first, m->run_count, p,
					     OM_IMAGE_PAGES_HDR + (size_t)OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE);
	m->run_count = 0;
	if (n < 0)
		return -1;
	om_hdr_encode(m->run, OM_T_IMAGE_PAGES, (uint32_t)n, 0, 0);
	return ckpt_write_all(m->fd, m->run, OM_HDR_SIZE + (size_t)n);
}

/* One page of the delta region, at addr, into the PAGES frame being made. */
static int emit(struct ckpt_merge *m, uint64_t addr, const uint8_t *data)
{
	uint64_t off = (addr - m->reg.start) / OM_PAGE_SIZE;
	if (m->run_count && (off != m->run_first + m->run_count || m->run_count == OM_IMAGE_PAGES_MAX) &&
	    flush_run(m) != 0)
		return -1;
	if (!m->run_count)
		m->run_first = off;
	memcpy(m->run + RUN_HDR + (size_t)m->run_count++ * OM_PAGE_SIZE, data, OM_PAGE_SIZE);
	m->reg_sent++;
	m->pages_out++;
	return 0;
}

/* The base's pages below addr in the delta region. */
static int base_below(struct ckpt_merge *m, uint64_t addr)
{
	for (; m->next < m->npages && m->pages[m->next].addr < addr; m->next++)
		if (base_read(m, m->page, OM_PAGE_SIZE, m->pages[m->next].off) != 0 ||
		    emit(m, m->pages[m->next].addr, m->page) != 0)
			return -1;
	return 0;
}

/* The delta region is over: the rest of the base's pages in it, and its
 * REGION frame written again with the pages it has now. */
static int finish_region(struct ckpt_merge *m)
{
	uint8_t buf[OM_HDR_SIZE + 512];
	if (!m->delta)
		return 0;
	m->delta = 0;
	if (base_below(m, m->reg.end) != 0 || flush_run(m) != 0)
		return -1;
	m->reg.pages_sent = m->reg_sent;
	int n = om_image_region_encode(&m->reg, buf + OM_HDR_SIZE, sizeof buf - OM_HDR_SIZE);
	if (n < 0)
		return -1;
	om_hdr_encode(buf, OM_T_IMAGE_REGION, (uint32_t)n, 0, m->reg_seq);
	return pwrite(m->fd, buf, OM_HDR_SIZE + (size_t)n, m->reg_at) == (ssize_t)(OM_HDR_SIZE + (size_t)n) ? 0 : -1;
}

static int region_frame(struct ckpt_merge *m, const uint8_t *p, uint32_t len, uint32_t seq, char *err, size_t errlen)
{
	if (finish_region(m) != 0)
		return ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
	if (om_image_region_decode(p, len, &m->reg) != OM_OK)
		return ckpt_fail(err, errlen, "a malformed IMAGE_REGION");
	m->index = m->regions++;
	while (m->next < m->npages && m->pages[m->next].addr < m->reg.start)
		m->next++;
	if ((m->reg.flags & OM_RF_DELTA) && m->base_fd < 0)
		return ckpt_fail(err, errlen, "a region of what changed since a checkpoint, but none was asked for");
	if (!(m->reg.flags & OM_RF_DELTA))
		return write_frame(m->fd, OM_T_IMAGE_REGION, seq, p, len) == 0 ? 0 :
		       ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
	m->delta = 1;
	m->deltas++;
	m->reg.flags &= ~OM_RF_DELTA;
	m->reg_sent = 0;
	m->last = 0;
	m->reg_at = lseek(m->fd, 0, SEEK_CUR);
	m->reg_seq = seq;
	uint8_t buf[512];
	int n = om_image_region_encode(&m->reg, buf, sizeof buf); /* its count made right at the end */
	return n >= 0 && m->reg_at >= 0 && write_frame(m->fd, OM_T_IMAGE_REGION, seq, buf, (uint32_t)n) == 0 ? 0 :
	       ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
}

static int pages_frame(struct ckpt_merge *m, const uint8_t *p, uint32_t len, uint32_t seq, char *err, size_t errlen)
{
	struct om_image_pages pg;
	if (om_image_pages_decode(p, len, &pg) != OM_OK || pg.region != m->index)
		return ckpt_fail(err, errlen, "a malformed IMAGE_PAGES");
	if (!m->delta) {
		m->pages_out += pg.count;
		return write_frame(m->fd, OM_T_IMAGE_PAGES, seq, p, len) == 0 ? 0 :
		       ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
	}
	for (uint32_t k = 0; k < pg.count; k++) {
		uint64_t addr = m->reg.start + (pg.first + k) * OM_PAGE_SIZE;
		if (addr >= m->reg.end || (m->last && addr < m->last))
			return ckpt_fail(err, errlen, "a page out of its region or order");
		m->last = addr + OM_PAGE_SIZE;
		if (base_below(m, addr) != 0)
			return ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
		if (m->next < m->npages && m->pages[m->next].addr == addr)
			m->next++; /* the node's replaces the base's */
		if (emit(m, addr, pg.data + (size_t)k * OM_PAGE_SIZE) != 0)
			return ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
	}
	return 0;
}

int ckpt_merge_frame(struct ckpt_merge *m, uint8_t type, const uint8_t *p, uint32_t len, uint32_t seq, char *err,
		     size_t errlen)
{
	switch (type) {
	case OM_T_IMAGE_REGION:
		return region_frame(m, p, len, seq, err, errlen);
	case OM_T_IMAGE_PAGES:
		return pages_frame(m, p, len, seq, err, errlen);
	case OM_T_IMAGE_END: {
		struct om_image_end e;
		uint8_t buf[64];
		if (finish_region(m) != 0)
			return ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
		if (om_image_end_decode(p, len, &e) != OM_OK)
			return ckpt_fail(err, errlen, "a malformed IMAGE_END");
		e.pages = m->pages_out;
		int n = om_image_end_encode(&e, buf, sizeof buf);
		return n >= 0 && write_frame(m->fd, type, seq, buf, (uint32_t)n) == 0 ? 0 :
		       ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
	}
	}
	return write_frame(m->fd, type, seq, p, len) == 0 ? 0 : ckpt_fail(err, errlen, "writing: %s", strerror(errno ? errno : EIO));
}
