// Signed links: what a link says is what was signed; a link altered in any
// part, signed with another key or past its time is refused; the key is made
// once and kept.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "http/links.hpp"
#include "support/support.hpp"

namespace {

using relais::daemon::LinkSigner;
using relais::daemon::NeedAct;

LinkSigner::Key key(unsigned char fill) {
  LinkSigner::Key k{};
  k.fill(fill);
  return k;
}

TEST(links, ASignedLinkSaysWhatWasSigned) {
  const LinkSigner signer(key(1));
  const auto path = signer.path(NeedAct::decline, 42, "voisins_pal", 2000);
  EXPECT_EQ(path.rfind("/l/decline/42/voisins_pal/2000/", 0), 0u) << path;
  auto link = signer.verify(path, 1999);
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(link->act, NeedAct::decline);
  EXPECT_EQ(link->post_id, 42);
  EXPECT_EQ(link->destination, "voisins_pal");
  EXPECT_EQ(link->expires_unix, 2000);
}

TEST(links, AnAlteredLinkIsRefused) {
  const LinkSigner signer(key(1));
  const auto path = signer.path(NeedAct::claim, 42, "pool", 2000);
  auto refused = [&](std::string from, std::string to) {
    std::string altered = path;
    altered.replace(altered.find(from), from.size(), to);
    auto v = signer.verify(altered, 1000);
    EXPECT_FALSE(v) << altered;
    return v ? std::string() : v.error().code;
  };
  EXPECT_EQ(refused("/claim/", "/resolve/"), "forbidden");
  EXPECT_EQ(refused("/42/", "/43/"), "forbidden");
  EXPECT_EQ(refused("/pool/", "/shop/"), "forbidden");
  EXPECT_EQ(refused("/2000/", "/9000/"), "forbidden");
  EXPECT_EQ(refused("/l/claim", "/l/steal"), "not_found");
  EXPECT_FALSE(signer.verify("/l/claim/42/pool/2000", 1000));
  EXPECT_FALSE(signer.verify(path + "/more", 1000));
  // Another key, another signature.
  EXPECT_FALSE(LinkSigner(key(2)).verify(path, 1000));
}

TEST(links, AnExpiredLinkIsRefused) {
  const LinkSigner signer(key(1));
  const auto path = signer.path(NeedAct::claim, 42, "pool", 2000);
  EXPECT_TRUE(signer.verify(path, 2000));
  auto late = signer.verify(path, 2001);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, "expired");
}

TEST(links, TheKeyIsMadeOnceReadableByItsOwnerOnly) {
  relais::test::TempDir dir;
  auto first = LinkSigner::open(dir / "link.key");
  ASSERT_TRUE(first) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "link.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto second = LinkSigner::open(dir / "link.key");
  ASSERT_TRUE(second);
  const auto path = first->path(NeedAct::resolve, 7, "d", 10);
  EXPECT_TRUE(second->verify(path, 5));
  relais::test::write_file(dir / "short.key", "abc");
  EXPECT_FALSE(LinkSigner::open(dir / "short.key"));
}

}  // namespace
