/* test_ckpt_merge.c - a checkpoint of only what changed made whole
 * against its base file (server-agent/deputy/ckpt_merge.h): the merged
 * image has every page, the node's where it sent one, the base's
 * elsewhere, with its counts right; and what it must refuse. */
#define CHECK_PREFIX "ckpt_merge/"
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ckpt_merge.h"

static uint8_t pl[OM_HDR_SIZE + OM_MAX_PAYLOAD];
static char dir[] = "/tmp/om-merge-XXXXXX";

/* One frame appended to fd. */
static void put(int fd, uint8_t type, const void *p, int n)
{
	uint8_t h[OM_HDR_SIZE];
	om_hdr_encode(h, type, (uint32_t)n, 0, 0);
	if (n < 0 || write(fd, h, sizeof h) != (ssize_t)sizeof h || write(fd, p, (size_t)n) != n)
		abort();
}

static void page(uint8_t *at, char tag)
{
	memset(at, tag, OM_PAGE_SIZE);
}

/* A region frame's payload. */
static int region(uint64_t start, uint64_t end, uint32_t flags, uint64_t sent)
{
	struct om_image_region r = { .start = start, .end = end, .prot = OM_PROT_R | OM_PROT_W, .kind = OM_RK_ANON,
				     .flags = flags, .pages_sent = sent };
	return om_image_region_encode(&r, pl, sizeof pl);
}

/* count pages tagged tags[] from page first of region index. */
static int pages(uint32_t index, uint64_t first, const char *tags)
{
	uint32_t n = (uint32_t)strlen(tags);
	int len = om_image_pages_encode_header(index, first, n, pl, sizeof pl);
	for (uint32_t k = 0; k < n; k++)
		page(pl + OM_IMAGE_PAGES_HDR + (size_t)k * OM_PAGE_SIZE, tags[k]);
	return len;
}

/* The base: region 0 at 0x10000 (4 pages: a, b, -, d), region 1 at
 * 0x14000, next to it (2 pages: e, f), region 2 at 0x30000 (1 page: g). */
static void write_base(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct om_image_end e = { 3, 7 };
	put(fd, OM_T_IMAGE_BEGIN, "hdr", 3);
	put(fd, OM_T_IMAGE_REGION, pl, region(0x10000, 0x14000, 0, 3));
	put(fd, OM_T_IMAGE_PAGES, pl, pages(0, 0, "ab"));
	put(fd, OM_T_IMAGE_PAGES, pl, pages(0, 3, "d"));
	put(fd, OM_T_IMAGE_REGION, pl, region(0x14000, 0x16000, 0, 2));
	put(fd, OM_T_IMAGE_PAGES, pl, pages(1, 0, "ef"));
	put(fd, OM_T_IMAGE_REGION, pl, region(0x30000, 0x31000, 0, 1));
	put(fd, OM_T_IMAGE_PAGES, pl, pages(2, 0, "g"));
	put(fd, OM_T_IMAGE_END, pl, om_image_end_encode(&e, pl, sizeof pl));
	close(fd);
}

static int feed(struct ckpt_merge *m, uint8_t type, int n, char *err)
{
	return ckpt_merge_frame(m, type, pl, (uint32_t)n, 0, err, 256);
}

/* The merged file's pages in order as "addr:tag " and its counts. */
static void summary(const char *path, char *out, size_t cap)
{
	static uint8_t buf[4 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t len = 0, got;
	while ((got = read(fd, buf + len, sizeof buf - (size_t)len)) > 0)
		len += got;
	uint64_t start = 0;
	size_t n = 0;
	close(fd);
	out[0] = '\0';
	for (ssize_t at = 0; at < len;) {
		struct om_hdr h;
		struct om_image_region r;
		struct om_image_pages p;
		struct om_image_end e;
		om_frame_check(buf + at, (size_t)(len - at), &h);
		const uint8_t *q = buf + at + OM_HDR_SIZE;
		at += OM_HDR_SIZE + h.length;
		if (h.type == OM_T_IMAGE_REGION && om_image_region_decode(q, h.length, &r) == OM_OK) {
			start = r.start;
			n += (size_t)snprintf(out + n, cap - n, "[%llx %llu%s] ", (unsigned long long)r.start,
					      (unsigned long long)r.pages_sent, r.flags & OM_RF_DELTA ? " delta" : "");
		} else if (h.type == OM_T_IMAGE_PAGES && om_image_pages_decode(q, h.length, &p) == OM_OK) {
			for (uint32_t k = 0; k < p.count; k++)
				n += (size_t)snprintf(out + n, cap - n, "%llx:%c ",
						      (unsigned long long)(start + (p.first + k) * OM_PAGE_SIZE),
						      p.data[(size_t)k * OM_PAGE_SIZE]);
		} else if (h.type == OM_T_IMAGE_END && om_image_end_decode(q, h.length, &e) == OM_OK) {
			n += (size_t)snprintf(out + n, cap - n, "end %u %llu", e.regions, (unsigned long long)e.pages);
		}
	}
}

static void merged_whole(void)
{
	char base[64], out[64], err[256], got[1024];
	struct ckpt_merge m;
	struct om_image_end e = { 3, 4 };
	snprintf(base, sizeof base, "%s/base", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	write_base(base);
	int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	put(fd, OM_T_CKPT_HOME, "home record", 11); /* before the image, as the deputy writes it */
	CHECK_EQ(ckpt_merge_begin(&m, base, NULL, fd, err, sizeof err), 0);
	/* region 0 a delta: pages 1 and 2 written since (2 is new); region 1
	 * sent whole (a page went: only f now); region 2 grew, a delta: its
	 * second page is new; then the same with region 1 a delta too, which
	 * keeps its first page, at region 0's end */
	CHECK_EQ(feed(&m, OM_T_IMAGE_BEGIN, 3, err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x10000, 0x14000, OM_RF_DELTA, 2), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(0, 1, "BC"), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x14000, 0x16000, 0, 1), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(1, 1, "F"), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x30000, 0x32000, OM_RF_DELTA, 1), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(2, 1, "H"), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_END, om_image_end_encode(&e, pl, sizeof pl), err), 0);
	ckpt_merge_end(&m);
	close(fd);
	summary(out, got, sizeof got);
	CHECK(strcmp(got, "[10000 4] 10000:a 11000:B 12000:C 13000:d [14000 1] 15000:F [30000 2] 30000:g 31000:H "
			  "end 3 7") == 0 || (printf("%s\n", got), 0));
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK_EQ(ckpt_merge_begin(&m, base, NULL, fd, err, sizeof err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x10000, 0x14000, OM_RF_DELTA, 0), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x14000, 0x16000, OM_RF_DELTA, 1), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(1, 1, "F"), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_END, om_image_end_encode(&e, pl, sizeof pl), err), 0);
	ckpt_merge_end(&m);
	close(fd);
	summary(out, got, sizeof got);
	CHECK(strcmp(got, "[10000 3] 10000:a 11000:b 13000:d [14000 2] 14000:e 15000:F end 3 5") == 0 ||
	      (printf("%s\n", got), 0));
}

/* A delta region of 300 pages the base has, none sent again: two PAGES
 * frames (255 at most each); and a base that is not the file written. */
static void long_runs_and_identity(void)
{
	char base[64], out[64], err[256], got[1 << 14];
	struct ckpt_merge m;
	struct om_image_end e = { 1, 300 };
	struct stat st;
	struct ckpt_file_id id;
	static char tags[301];
	snprintf(base, sizeof base, "%s/long", dir);
	snprintf(out, sizeof out, "%s/out3", dir);
	int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(tags, 'p', 300);
	put(fd, OM_T_IMAGE_REGION, pl, region(0x100000, 0x100000 + 300 * OM_PAGE_SIZE, 0, 300));
	tags[255] = '\0';
	put(fd, OM_T_IMAGE_PAGES, pl, pages(0, 0, tags));
	memset(tags, 'q', 300);
	tags[45] = '\0';
	put(fd, OM_T_IMAGE_PAGES, pl, pages(0, 255, tags));
	put(fd, OM_T_IMAGE_END, pl, om_image_end_encode(&e, pl, sizeof pl));
	fstat(fd, &st);
	ckpt_file_id_take(&id, &st);
	close(fd);
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK_EQ(ckpt_merge_begin(&m, base, &id, fd, err, sizeof err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x100000, 0x100000 + 300 * OM_PAGE_SIZE, OM_RF_DELTA, 0), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_END, om_image_end_encode(&e, pl, sizeof pl), err), 0);
	ckpt_merge_end(&m);
	summary(out, got, sizeof got);
	CHECK(strstr(got, "[100000 300] 100000:p ") == got && strstr(got, "1fe000:p 1ff000:q ") &&
	      strstr(got, "22b000:q end 1 300"));
	id.mtime_ns++; /* another file there now */
	CHECK_EQ(ckpt_merge_begin(&m, base, &id, fd, err, sizeof err), -1);
	CHECK(strstr(err, "is not the file its last checkpoint wrote") != NULL);
	CHECK_EQ(ckpt_merge_begin(&m, "/dev/null", NULL, fd, err, sizeof err), -1); /* a device */
	close(fd);
}

static void refused(void)
{
	char base[64], out[64], err[256];
	struct ckpt_merge m;
	snprintf(base, sizeof base, "%s/base", dir);
	snprintf(out, sizeof out, "%s/out2", dir);
	write_base(base);
	int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	/* no base asked for: a delta region cannot be made whole */
	CHECK_EQ(ckpt_merge_begin(&m, NULL, NULL, fd, err, sizeof err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x10000, 0x14000, OM_RF_DELTA, 1), err), -1);
	CHECK(strstr(err, "none was asked for") != NULL);
	ckpt_merge_end(&m);
	/* pages out of order, or past their region */
	CHECK_EQ(ckpt_merge_begin(&m, base, NULL, fd, err, sizeof err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_REGION, region(0x10000, 0x14000, OM_RF_DELTA, 2), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(0, 2, "x"), err), 0);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(0, 1, "y"), err), -1);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(0, 4, "z"), err), -1);
	CHECK_EQ(feed(&m, OM_T_IMAGE_PAGES, pages(1, 3, "z"), err), -1); /* another region's index */
	ckpt_merge_end(&m);
	/* a base that is not a whole image */
	int b = open(base, O_WRONLY | O_TRUNC);
	put(b, OM_T_IMAGE_REGION, pl, region(0x10000, 0x14000, OM_RF_DELTA, 0));
	close(b);
	CHECK_EQ(ckpt_merge_begin(&m, base, NULL, fd, err, sizeof err), -1);
	CHECK(strstr(err, "is not a whole image") != NULL);
	CHECK_EQ(ckpt_merge_begin(&m, "/nonexistent/base", NULL, fd, err, sizeof err), -1);
	close(fd);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(merged_whole);
	RUN(refused);
	RUN(long_runs_and_identity);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_exit();
}
